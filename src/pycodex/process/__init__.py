"""Running commands: spawning, output capture and truncation, environment policy."""
