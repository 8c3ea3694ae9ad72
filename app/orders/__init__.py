"""Orders through a bookshop: a reader asks a shop to order a book nobody near has on its shelves.

- `lifecycle`: the rules as data. States (requested -> ordered -> arrived -> collected, or
  declined with a reason, cancelled by the reader, expired), the transition table (who may cause
  each state, from which states, what happens to the deadline, which mail it queues), the
  deadlines, the per-reader limit, the decline reasons and the labels. Start reading here.
- `request`: place an order request (check the reader, the limits, snapshot, queue mail, count
  the demand).
- `transitions`: every later change, one guard over the table, the sweeper's expiry included.
- `desk`: what a shop's staff see of their orders.
- `retention`: the erasure of readers' details, as for reservations.

Like `app.reservations`, nothing here imports Flask, and this file imports nothing: `app.models`
reads `lifecycle` for its CHECK constraints.
"""
