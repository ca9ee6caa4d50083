"""What the model is told: base instructions, environment context, AGENTS.md."""
