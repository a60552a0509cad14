# gunicorn settings for the web app, shared by `make run`, the tests and every file in infra/:
#   gunicorn -c infra/gunicorn.conf.py --bind HOST:PORT 'web:create_app()'
# gevent workers: an open event stream or WebSocket costs a greenlet, not a thread, so
# one process holds thousands while the API keeps answering (see web/server.py).
worker_class = "web.server.Worker"
workers = 1
# Open connections one process accepts; past this they wait in the listen backlog.
worker_connections = 10000
backlog = 2048
# Seconds a finished request's connection may wait for the next one.
keepalive = 5
# A restart lets streams close; clients reconnect and resume from their last event.
graceful_timeout = 10
