"""The reservation lifecycle, from the reader's click to the erasure of their details.

- `lifecycle`: the rules as data. States, which are active and which count against a shop's
  copies, the transition table (who may cause each state, from which states, before or after
  the deadline, which mail it queues), the hold's length and deadline, the reminder lead time,
  the per-reader limit, the staff desk's verbs and the states' labels. Start reading here.
- `reserve`: hold one copy (lock, count, check the reader's limit, snapshot, queue mail).
- `transitions`: every later change of state, one guard over the table for all of them,
  including the sweeper's expiry of every due hold at once.
- `codes`: the reader's code, derived, hashed and looked up.
- `sweeper`: what happens without anyone clicking: reminders and the personal data purge.
- `desk`: what a shop's staff see: holds to handle, waiting, at risk, today; a pickup code.
- `resend`: a reader's active reservations mailed again, to the address they were made with.

No module here imports Flask: the views and the CLI call them with a session and plain values,
and commit. Queued mail is rendered and sent by the Flask side, `app/outbox.py`.

This file imports nothing on purpose: `app.models` reads `lifecycle` for its CHECK constraints,
so importing the package must not pull in the modules that use the models.
"""
