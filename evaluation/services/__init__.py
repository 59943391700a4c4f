"""Every write of the evaluation app, one module per area (pool, drawing, session/room,
clarifications, report). Import from the area module, e.g. `from evaluation.services import room`."""
