"""The notification inbox: every message to a person (steward decisions, station chief posts,
shift reminders, approved hours) goes through `services.notify`.

- `services`: `notify` and its channels (the inbox row first, idempotent by dedupe key),
  marking messages read;
- `texts`: the message templates, worded in the reader's language when shown;
- `queries`: one page of the inbox and the unread badge;
- `views`: the `inbox` blueprint (/me/inbox) and the badge in the navigation bar.
"""
