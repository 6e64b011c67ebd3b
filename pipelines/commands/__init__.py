"""The CLI commands, one module per command group.

Adding one: write `pipelines/commands/<group>.py` with a `register(app)` that adds its typer
commands, build an `Outcome` inside `common.run_command` (exit codes, `--json`, the summary
line and error handling come with it), use `DataDirOption`/`JsonOption` and, when the command
writes to the data dir, `datadir.run_lock` and `common.recorded_run`; then list the module in
`pipelines/cli.py`.
"""
