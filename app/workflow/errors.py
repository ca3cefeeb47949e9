"""What the workflow engine refuses, each with a message an officer can act on."""


class WorkflowFileError(Exception):
    """workflows.yaml is invalid; `problems` lists every mistake found, in file order."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Problem:
    """One mistake: where it is (file:line:col and the path of keys) and how to fix it."""

    def __init__(self, source, line, col, path, message):
        self.source, self.line, self.col, self.path, self.message = source, line, col, path, message

    def __str__(self):
        where = ".".join(str(p) for p in self.path) or "（文件）"
        return f"{self.source}:{self.line}:{self.col}: {where}: {self.message}"

    def sort_key(self):
        return (self.line, self.col, str(self))


class ActionRefused(Exception):
    """This officer may not take this action on this ticket now (answers 403 or 422)."""

    def __init__(self, message, status=403):
        self.status = status
        super().__init__(message)


class StaleTicket(Exception):
    """Someone else acted on the ticket first; nothing of this attempt was saved."""
