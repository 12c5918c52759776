"""Where CloudCal's objects live in storage (docs/design.md §5): the one key builder that
the handler, the reply check, the model and the admin all use."""


def log_key(job_id) -> str:
    return f"logs/calc/{job_id}.log"
