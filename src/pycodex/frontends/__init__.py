"""Front ends: clients of the engine queue pair."""
