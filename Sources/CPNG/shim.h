// CPNG: libpng (the simplified png_image API needs no setjmp; longjmp code stays in C here).
#include <png.h>
