"""The Fincome emulator."""
