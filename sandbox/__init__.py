"""Local emulators of the Metronome and Fincome APIs: real HTTP servers on loopback."""
