"""The reads that join visits and escalations, above both domains."""
