"""gunicorn's settings on a web instance (deploy/systemd/cloudsite-web.service).

A file rather than flags: the access log format's %-fields would need escaping in
a systemd unit.
"""

# Every interface: the security group lets only the load balancer in.
bind = "0.0.0.0:8000"  # noqa: S104
workers = 3
threads = 4
# Above the load balancer's idle timeout (60 s): the balancer must be the side
# that closes an idle connection, or it may send a request on a connection
# gunicorn is closing and answer the client 502.
keepalive = 75
# The access log, one line a request, shipped by the CloudWatch agent. The request
# id is the load balancer's X-Amzn-Trace-Id, the same id as in its own access logs.
accesslog = "/var/log/cloudsite-web/access.log"
access_log_format = (
    '%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s" '
    'request_id=%({x-amzn-trace-id}i)s'
)
errorlog = "-"  # the journal
# Secrets out of the access log: a token in a query string (which the API refuses, but
# only after gunicorn has logged the request line) or a Referer (cloudsite/accesslog.py).
logger_class = "cloudsite.accesslog.RedactingLogger"
