"""Deployment: servers, images and the geodata build."""
