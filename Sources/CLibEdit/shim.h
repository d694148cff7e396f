// CLibEdit: libedit's readline-compatible API (wrappers for variadic calls arrive with the REPL).
#include <stdio.h>
#include <editline/readline.h>
