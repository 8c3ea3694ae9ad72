# Stub for isbnlib 3.10 (untyped): only the names Rayons uses. See typings/README.md.

# The hyphenated form of an ISBN-10 or ISBN-13; '' when its registration group or publisher
# range is unknown. Raises isbnlib.NotValidISBNError for a code that is not a valid ISBN.
def mask(isbn: str, separator: str = "-") -> str: ...
