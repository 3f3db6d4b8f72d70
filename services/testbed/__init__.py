"""Tifli running for real on this machine, for tests, benchmarks and the demo: the embedded
mode on a loopback port, production mode as separate processes on Kafka and PostgreSQL
started by the deploy scripts, a partner endpoint, and a sample report. It starts our own
processes, so it is wiring and lives beside the other entry points; nothing in the services
imports it."""
