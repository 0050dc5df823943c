"""One thin router per resource: each endpoint checks the caller's role, calls one
service and shapes its answer; the services do the work and open the units of work."""
