from werkzeug.datastructures import FileStorage
from wtforms import FileField as _FileField
from wtforms.validators import DataRequired

class FileField(_FileField):
    # The uploaded file, or None when the request carried none (or an empty one).
    data: FileStorage | None

class FileRequired(DataRequired): ...
