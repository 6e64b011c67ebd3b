"""Local emulators of the Metronome and Fincome APIs: real HTTP servers on loopback."""

# the emulators' credentials unless told otherwise (`--token`, `--api-key`): the demo, the
# tests and `billing-sync emulator --help` name them from here
DEFAULT_METRONOME_TOKEN = "emulator-metronome-token"  # Authorization: Bearer <token>
DEFAULT_FINCOME_API_KEY = "emulator-fincome-key"  # in the X-API-KEY header
