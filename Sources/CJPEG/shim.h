// CJPEG: libjpeg(-turbo); error recovery with longjmp must stay inside C functions in this header.
#include <stdio.h>
#include <jpeglib.h>
