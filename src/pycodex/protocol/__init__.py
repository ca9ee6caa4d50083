"""Protocol types: pure data shared by every layer. Imports nothing else from pycodex."""
