# Stub for Flask-WTF 1.3 (untyped): only the names Rayons uses. See typings/README.md.
from flask_wtf.csrf import CSRFProtect as CSRFProtect
from flask_wtf.form import FlaskForm as FlaskForm
