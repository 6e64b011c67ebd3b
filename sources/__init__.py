"""dlt sources. Knows only Metronome; never imports destinations/."""
