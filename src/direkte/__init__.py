"""direkte: direct escalation to service managers for vehicle service networks."""

__version__ = "0.1.0"
