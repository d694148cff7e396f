// CSystem: glibc interfaces the Glibc module does not export (mallopt for allocator tuning).
#include <malloc.h>
