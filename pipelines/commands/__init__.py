"""The CLI commands, one module per command group.

Adding one: write `pipelines/commands/<group>.py` with a `register(app)` that adds its typer
commands, use `DataDirOption`/`JsonOption`, and build an `Outcome` inside a
`session.CommandSession`'s `run` (exit codes, `--json`, the summary line and error handling
come with it); its `locked()` resolves and locks the data dir, whose `claim` and `recorded`
take the scope, the run record and the progress bars (see `session.py`). Then list the
module in `pipelines/cli.py`.
"""
