#include <zlib.h>

/* deflateInit2/inflateInit2 are macros in zlib.h; Swift cannot call macros, so these wrap them. */
static inline int lw_deflate_init_raw(z_streamp stream, int level, int window_bits, int mem_level, int strategy) {
    return deflateInit2(stream, level, Z_DEFLATED, -window_bits, mem_level, strategy);
}

static inline int lw_inflate_init_raw(z_streamp stream, int window_bits) {
    return inflateInit2(stream, -window_bits);
}
