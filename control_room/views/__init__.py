"""One module per page: the SQL each page runs in small named functions, `render()` draws it."""
