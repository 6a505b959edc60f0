"""errors.py - API errors and the metav1.Status objects that carry them."""


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            st["details"] = self.details
        return st


def _details(rtype, name):
    d = {"kind": rtype.plural}
    if name:
        d["name"] = name
    if rtype.group:
        d["group"] = rtype.group
    return d


def not_found(rtype, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (rtype.qualified, name),
                    _details(rtype, name))


def not_found_path():
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(rtype, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (rtype.qualified, name),
                    _details(rtype, name))


def conflict(rtype, name, detail=None):
    msg = ('Operation cannot be fulfilled on %s "%s": %s'
           % (rtype.qualified, name, detail or "the object has been modified; please apply "
              "your changes to the latest version and try again"))
    return ApiError(409, "Conflict", msg, _details(rtype, name))


def invalid(rtype, name, causes):
    kind = rtype.kind + ("." + rtype.group if rtype.group else "")
    parts = ["%s: %s" % (c["field"], c["message"]) for c in causes]
    body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    d = {"name": name or "", "kind": rtype.kind, "causes": causes}
    if rtype.group:
        d["group"] = rtype.group
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (kind, name or "", body), d)


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def gone(message):
    return ApiError(410, "Expired", message)


def forbidden(rtype, name, detail):
    return ApiError(403, "Forbidden", '%s "%s" is forbidden: %s' % (rtype.qualified, name,
                                                                     detail),
                    _details(rtype, name))


def method_not_allowed(method):
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                    "requested resource", {})


def unsupported_media(ctype):
    return ApiError(415, "UnsupportedMediaType", 'the body of the request was in an unknown '
                    'format - accepted media types include: application/json-patch+json, '
                    'application/merge-patch+json, application/apply-patch+yaml, '
                    'application/strategic-merge-patch+json (got "%s")' % ctype, {})


def too_large_rv(want, have):
    return ApiError(504, "Timeout", "Too large resource version: %s, current: %s" % (want, have),
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1}, {"Retry-After": "1"})


def list_options_invalid(field, detail, forbidden_=True):
    kind = "Forbidden" if forbidden_ else "Invalid value"
    msg = 'ListOptions.meta.k8s.io "" is invalid: %s: %s: %s' % (field, kind, detail)
    return ApiError(422, "Invalid", msg,
                    {"group": "meta.k8s.io", "kind": "ListOptions",
                     "causes": [{"reason": "FieldValueForbidden" if forbidden_
                                 else "FieldValueInvalid",
                                 "message": "%s: %s" % (kind, detail), "field": field}]})
