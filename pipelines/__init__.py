"""The wiring: extract -> transform -> push, the CLI, and the Metronome->Fincome mapping."""
