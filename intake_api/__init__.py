"""The police-facing REST API: reports, sightings, review, and the events they publish."""

SOURCE = "tifli/intake-api"  # the ``source`` of every event intake publishes
