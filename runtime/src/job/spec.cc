// Placeholder: replaced by the job area.
