// A question asked in the page instead of a browser confirm() (which blocks the page, cannot
// be styled or translated with it, and some phones' web views drop): a hidden section with
// role="alertdialog", aria-labelledby/-describedby, a "yes" button and a safe "no" button.
// Asking shows it and moves the focus to "no" (a stray tap or Enter does the safe thing);
// Escape answers "no"; after an answer the focus goes back to `returnTo` (the field where
// the next entry is made). `subject` is what the question is about: it is handed to onYes
// or onNo, or back to the caller that closes the question without an answer (`dismiss`).
// Works offline: nothing here needs the network. Used by the steward's scan page and the
// collector's pickup page (their markup: templates/_confirm_panel.html).
(function () {
  "use strict";

  class ConfirmPanel {
    constructor({ panel, yes, no, returnTo, onYes, onNo }) {
      Object.assign(this, { panel, yes, no, returnTo, onYes, onNo, subject: null });
      yes.addEventListener("click", () => this.answer(true));
      no.addEventListener("click", () => this.answer(false));
      panel.addEventListener("keydown", (e) => {
        if (e.key === "Escape" && this.isOpen()) { e.preventDefault(); this.answer(false); }
      });
    }

    isOpen() { return !this.panel.hidden; }

    ask(subject) {
      this.subject = subject;
      this.panel.hidden = false;
      this.no.focus();
    }

    // Closes the question unanswered and returns its subject; the focus stays where it is
    // unless `refocus` (the caller, busy with something new, says what became of it).
    dismiss(refocus) {
      const subject = this.subject;
      this.subject = null;
      this.panel.hidden = true;
      if (refocus && this.returnTo) { this.returnTo.focus(); }
      return subject;
    }

    answer(yes) {
      if (!this.isOpen()) { return; }
      const subject = this.dismiss(true);
      const then = yes ? this.onYes : this.onNo;
      if (then) { then(subject); }
    }
  }

  window.ConfirmPanel = ConfirmPanel;
})();
