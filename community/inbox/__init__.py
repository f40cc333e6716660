"""The notification inbox: every message to a person (verdicts and appeal decisions, good
news, steward decisions, shift reminders, approved hours, case tasks) goes through
`services.notify`. It sits below every module that tells people something (import-linter).

- `models`: the notifications (a code and parameters, never translated text), each person's
  channel settings (SMS opt-in) and the SMS outbox;
- `services`: `notify` and its channels (the inbox row first, idempotent by dedupe key; SMS
  queued for people who opted in), the opt-in switch, marking messages read;
- `rules`: quiet hours (pure);
- `texts`: the message templates, worded in the reader's language when shown, and the
  resolvers other modules register to word their own parameters at read time;
- `queries`: one page of the inbox and the unread badge;
- `jobs`: the `inbox.sms` job's sender (after the request, outside quiet hours);
- `views`: the `inbox` blueprint (/me/inbox) and the badge in the navigation bar.
"""
