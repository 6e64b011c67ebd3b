"""The Metronome dlt source."""
