"""The console at ``/console/``: plain ES modules and CSS, served by the API process, that call
only the public REST API (``services/console/static``)."""
