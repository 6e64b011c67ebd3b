"""What both emulators share: the loopback server runner, fault injection, the request log
and the `/_emulator/` control plane. Knows neither API."""
