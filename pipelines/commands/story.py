"""`billing-sync show invoice|customer ID`: one record's story (`pipelines/story.py`).

What Metronome sent (the staged record), what it mapped to (desired rows, or why it was
skipped), what the ledger says was pushed and when, open rejects, and what Fincome holds now:
one read through the client (an invoice or credit note comes with its lines), compared field
by field with what we send. ID is the Metronome id, which is also the Fincome id (a
customer; an invoice, or the credit note a negative correction becomes); a line id
(`<invoice id>:<suffix>`) shows its invoice. Reads only; needs the Fincome settings for the
read. Exit 0 shown, 2 when neither the data dir nor Fincome knows ID (or a setting is
missing), 1 when Fincome cannot be read, 75 while another run holds the data dir.

`--json` prints one object:

    {"command": "show", "status": "ok", "exit_code": 0, "data_dir": "/abs/path",
     "kind": "invoice" | "customer", "id": "...",
     "metronome": {...the staged record, as the mapping reads it...} | null,
     "records": [{"collection": "invoices", "id": "...",
                  "desired": {...the body we send...} | null,
                  "pushed_at": "2026-12-07T18:31:02+00:00" | null,
                  "pushed_as_desired": true | false | null,
                  "fincome": {...Fincome's copy...} | null (404) | "not read",
                  "differs": ["status"]}],     # the document first, then its lines
     "owned": {"subscriptions": {"desired": 2, "pushed": 2, "as_desired": 2}, ...},
                                               # a customer's records; {} for an invoice
     "skipped": [{"collection", "record_id", "reason"}],
     "rejects": [{"stage", "collection", "record_id", "reason", "first_seen", "last_seen",
                  "attempts"}],
     "fincome_read": "GET /invoices/...", "requests": 1,
     "mapped": true}       # false: the data dir was only extracted, nothing mapped yet
"""

from __future__ import annotations

import textwrap
from typing import Annotated, Any

import typer
from rich.console import Console

from destinations.fincome import FincomeClient, FincomeError
from pipelines.commands.common import DataDirOption, ExitCode, JsonOption, Outcome
from pipelines.commands.session import CommandSession
from pipelines.config import ConfigError, load_fincome_settings
from pipelines.push_failures import explain
from pipelines.story import Kind, Record, Story, Unknown, story

WIDTH = 80
IdArgument = Annotated[str, typer.Argument(metavar="ID", help="The Metronome id (= Fincome id).")]
show_app = typer.Typer(
    help="One record's story: Metronome, mapping, ledger, rejects, Fincome now.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(show_app, name="show")


@show_app.command(help="An invoice (or the credit note it became), with its lines.")
def invoice(
    record_id: IdArgument, data_dir: DataDirOption = None, json_output: JsonOption = False
) -> None:
    _show("invoice", record_id, data_dir, json_output)


@show_app.command(help="A customer, with its records per collection.")
def customer(
    record_id: IdArgument, data_dir: DataDirOption = None, json_output: JsonOption = False
) -> None:
    _show("customer", record_id, data_dir, json_output)


def _show(kind: Kind, record_id: str, data_dir: Any, json_output: bool) -> None:
    session = CommandSession("show", data_dir, json_output)

    def body() -> Outcome:
        settings = load_fincome_settings()
        with session.locked() as held, held.data_dir.connect() as db:
            with FincomeClient(settings) as client:
                try:
                    found = story(db, client, kind, record_id)
                except Unknown as exc:
                    raise ConfigError("ID", str(exc)) from None
                except FincomeError as exc:
                    raise explain(exc) from exc
            return Outcome(
                exit_code=ExitCode.OK,
                payload={"data_dir": str(held.data_dir.root), **found.to_json()},
                summary=f"{kind} {record_id}: {_verdict(found)}",
                render=lambda console: render(console, found),
                counts={
                    "records": len(found.records),
                    "rejects": len(found.rejects),
                    "requests": found.requests,
                },
            )

    session.run(body)


def render(console: Console, found: Story) -> None:
    """The story for a person; every id whole on its line (never cut at 80 columns)."""
    say = _Printer(console)
    say(f"{found.kind.capitalize()} {found.id}")
    say("")
    say("What Metronome sent (staged)")
    for line in _metronome(found):
        say(f"  {line}")
    if found.owned:
        say("")
        say(f"{'Its records (ledger)':<28}{'desired':>10}{'pushed':>10}{'as desired':>12}")
        for name, count in found.owned.items():
            numbers = (count.get(k, 0) for k in ("desired", "pushed", "as_desired"))
            say("  {:<26}{:>10}{:>10}{:>12}".format(name, *numbers))
    say("")
    say("What it mapped to, what the ledger says, what Fincome holds now")
    if not found.mapped:
        say("  (nothing is mapped yet in this data dir: `billing-sync push --dry-run` maps)")
    for record in found.records:
        _record(say, record, found.mapped)
    for skipped in found.skipped:
        say(f"  skipped {skipped['collection']} {skipped['record_id']}: {skipped['reason']}")
    say("")
    say("Open rejects" if found.rejects else "Open rejects: none")
    for reject in found.rejects:
        say(f"  {reject['stage']} {reject['collection']} {reject['record_id']}")
        say(f"    {reject['reason']} (seen {reject['attempts']}x, last {reject['last_seen']})")
    say("")
    say(f"Fincome was read once: {found.read}")
    if any(r.differs or (r.read and r.held is None and r.desired) for r in found.records):
        say("Next: `billing-sync repair` pushes what Fincome lacks or holds differently.")


class _Printer:
    """Lines of at most 80 columns, broken between words only: an id is never cut (one
    longer than a line stands alone on it)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, text: str, *, indent: int = 0) -> None:
        wrapped = textwrap.wrap(
            text,
            WIDTH,
            subsequent_indent=" " * (indent or len(text) - len(text.lstrip()) + 2),
            break_long_words=False,
            break_on_hyphens=False,
        )
        for line in wrapped or [""]:
            self.console.print(line, soft_wrap=True)


def _metronome(found: Story) -> list[str]:
    staged = found.metronome
    if staged is None:
        return ["nothing staged under this id (extract, or a lost data dir?)"]
    if found.kind == "customer":
        archived = "archived" if staged.get("archived_at") else "active"
        return [f"{staged.get('name')!s} ({archived})"]
    credit = staged.get("credit_type") or {}
    lines = staged.get("line_items") or []
    period = f"{_when(staged.get('start_timestamp'))} to {_when(staged.get('end_timestamp'))}"
    return [
        f"{staged.get('status')} {staged.get('type')} invoice of customer "
        f"{staged.get('customer_id')}",
        f"issued {_when(staged.get('issued_at'))}, period {period}",
        f"total {staged.get('total')} {credit.get('name', '')}, {len(lines)} line items",
    ]


def _record(say: _Printer, record: Record, mapped: bool) -> None:
    say(f"  {record.collection} {record.id}")
    if mapped:  # else there is no desired state to speak of yet
        wanted = record.desired
        described = "none" if wanted is None else _described(record.collection, wanted)
        say(f"    desired   {described}", indent=14)
    if record.pushed_at is None:
        say("    ledger    never pushed")
    else:
        state = "as desired" if record.pushed_as_desired else "an update is pending"
        say(f"    ledger    pushed {record.pushed_at:%Y-%m-%d %H:%M:%S %Z}, {state}")
    say(f"    Fincome   {_fincome(record, mapped)}", indent=14)


def _described(name: str, body: dict[str, Any]) -> str:
    """What a desired record is, in a few words."""
    if name in ("invoices", "credit_notes"):
        return f"{body.get('status')}, dated {_when(body.get('date'))}"
    if name == "subscriptions":
        value = f"{body.get('monthly_value')} {body.get('currency_code')} a month"
        return f"{body.get('status')}, {value}"
    if name in ("invoice_line_items", "credit_note_line_items"):
        amount = body.get("amount_excluding_tax_after_discount", body.get("amount"))
        words = [str(body.get("type") or "credit"), f"{amount} {body.get('currency_code')}"]
        if body.get("period_start"):
            words.append(f"{_when(body['period_start'])} to {_when(body.get('period_end'))}")
        return ", ".join(words)
    named = [str(body.get(key)) for key in ("name", "email") if body.get(key)]
    if body.get("root_parent_id"):
        named.append(f"paid for by {body['root_parent_id']}")
    return ", ".join(named) or "(no name)"


def _when(moment: Any) -> str:
    """A timestamp at midnight UTC as its day; any other as it is."""
    text = str(moment)
    return text[:10] if text.endswith("T00:00:00Z") else text


def _fincome(record: Record, mapped: bool) -> str:
    if not record.read:
        return "not read (this Fincome does not list a document's lines)"
    if record.held is None:
        return "does not hold it" + (" (missing)" if record.desired else "")
    if record.desired is None:
        return "holds it, but it is not desired (extra)" if mapped else "holds it"
    if not record.differs:
        return "holds it as desired"
    held, wanted = record.held, record.desired
    return "differs: " + "; ".join(
        f"{name} {held.get(name)!s} there, {wanted.get(name)!s} here" for name in record.differs
    )


def _verdict(found: Story) -> str:
    differing = sum(1 for r in found.records if r.differs)
    missing = sum(1 for r in found.records if r.read and r.held is None and r.desired)
    return (
        f"{len(found.records)} records, {missing} missing and {differing} differing in "
        f"Fincome, {len(found.rejects)} open rejects"
    )
