"""Flask extensions, created unbound here and initialised in `create_app`."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# No default limits: only the routes that need one (login, uploads) declare it.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
