"""The Metronome emulator."""
