"""Per-backend implementations behind `kerasdl.backend` (imported only from there)."""
