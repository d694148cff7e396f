// CPNG: libpng behind two C functions; every setjmp/longjmp stays inside them (no Swift frame is jumped over).
#ifndef APTP_CPNG_SHIM_H
#define APTP_CPNG_SHIM_H

#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/// A decoded image: interleaved samples, 8-bit or native-endian 16-bit. Free `pixels` with `aptp_png_free`.
typedef struct {
  unsigned char *pixels;
  size_t byte_count;
  uint32_t width;
  uint32_t height;
  int channels;
  int bit_depth;
  int source_color_type;
  int source_bit_depth;
  int interlaced;
} aptp_png_image;

/// Growable output buffer for the encoder. Free `data` with `aptp_png_free`.
typedef struct {
  unsigned char *data;
  size_t size;
  size_t capacity;
} aptp_png_buffer;

typedef struct {
  const unsigned char *data;
  size_t size;
  size_t offset;
} aptp_png_reader;

typedef struct {
  char *message;
  size_t capacity;
} aptp_png_error_sink;

static inline void aptp_png_free(void *pointer) { free(pointer); }

static inline void aptp_png_copy_message(char *dst, size_t capacity, const char *src) {
  if (dst == NULL || capacity == 0) return;
  if (src == NULL) src = "unknown libpng error";
  strncpy(dst, src, capacity - 1);
  dst[capacity - 1] = 0;
}

static void aptp_png_on_error(png_structp png, png_const_charp message) {
  aptp_png_error_sink *sink = (aptp_png_error_sink *)png_get_error_ptr(png);
  if (sink != NULL) aptp_png_copy_message(sink->message, sink->capacity, message);
  png_longjmp(png, 1);
}

static void aptp_png_on_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

static void aptp_png_read_bytes(png_structp png, png_bytep out, png_size_t length) {
  aptp_png_reader *reader = (aptp_png_reader *)png_get_io_ptr(png);
  if (reader == NULL || length > reader->size - reader->offset) {
    png_error(png, "unexpected end of PNG data (file truncated?)");
    return;
  }
  memcpy(out, reader->data + reader->offset, length);
  reader->offset += length;
}

/// Decodes a PNG held in memory. Palette images become RGB(A), gray below 8 bits becomes 8-bit,
/// tRNS becomes an alpha channel, interlaced images are de-interlaced; 16-bit samples stay 16-bit.
/// No gamma or colour conversion is applied: samples are what the file stores.
/// Returns 0 on success; otherwise writes a message to `error` and returns -1.
static inline int aptp_png_decode(const unsigned char *data, size_t size, size_t max_bytes,
                                  aptp_png_image *out, char *error, size_t error_capacity) {
  aptp_png_reader reader = {data, size, 0};
  aptp_png_error_sink sink = {error, error_capacity};
  png_structp png = NULL;
  png_infop info = NULL;
  unsigned char *volatile pixels = NULL;
  png_bytep *volatile rows = NULL;
  memset(out, 0, sizeof(*out));
  if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
    aptp_png_copy_message(error, error_capacity, "not a PNG file (bad signature)");
    return -1;
  }
  png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, aptp_png_on_error, aptp_png_on_warning);
  if (png == NULL) {
    aptp_png_copy_message(error, error_capacity, "libpng could not allocate its reader");
    return -1;
  }
  info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_read_struct(&png, NULL, NULL);
    aptp_png_copy_message(error, error_capacity, "libpng could not allocate its info struct");
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    free(pixels);
    return -1;
  }
  png_set_user_limits(png, 65535, 65535);
  png_set_read_fn(png, &reader, aptp_png_read_bytes);
  png_read_info(png, info);
  png_uint_32 width = png_get_image_width(png, info);
  png_uint_32 height = png_get_image_height(png, info);
  int color_type = png_get_color_type(png, info);
  int bit_depth = png_get_bit_depth(png, info);
  out->source_color_type = color_type;
  out->source_bit_depth = bit_depth;
  out->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  int depth = png_get_bit_depth(png, info);
  size_t row_bytes = png_get_rowbytes(png, info);
  size_t sample_bytes = depth == 16 ? 2 : 1;
  if (channels < 1 || channels > 4 || (depth != 8 && depth != 16) || width == 0 || height == 0 ||
      row_bytes != (size_t)width * (size_t)channels * sample_bytes) {
    png_error(png, "unsupported PNG layout after expansion");
  }
  if ((size_t)height > max_bytes / row_bytes) png_error(png, "PNG image is larger than the decoder's limit");
  pixels = (unsigned char *)malloc(row_bytes * (size_t)height);
  rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height);
  if (pixels == NULL || rows == NULL) png_error(png, "out of memory for PNG pixels");
  for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
  png_read_image(png, rows);
  png_destroy_read_struct(&png, &info, NULL);
  free(rows);
  out->pixels = pixels;
  out->byte_count = row_bytes * (size_t)height;
  out->width = width;
  out->height = height;
  out->channels = channels;
  out->bit_depth = depth;
  return 0;
}

static void aptp_png_write_bytes(png_structp png, png_bytep bytes, png_size_t length) {
  aptp_png_buffer *buffer = (aptp_png_buffer *)png_get_io_ptr(png);
  if (length > ((size_t)-1) / 2 - buffer->size) png_error(png, "PNG output too large");
  if (buffer->size + length > buffer->capacity) {
    size_t capacity = buffer->capacity < 4096 ? 4096 : buffer->capacity;
    while (capacity < buffer->size + length) capacity *= 2;
    unsigned char *grown = (unsigned char *)realloc(buffer->data, capacity);
    if (grown == NULL) png_error(png, "out of memory for PNG output");
    buffer->data = grown;
    buffer->capacity = capacity;
  }
  memcpy(buffer->data + buffer->size, bytes, length);
  buffer->size += length;
}

static void aptp_png_flush(png_structp png) { (void)png; }

/// Encodes interleaved samples (1-4 channels; 8-bit, or native-endian 16-bit) as a non-interlaced PNG in memory.
/// Returns 0 on success; otherwise writes a message to `error`, frees any partial output and returns -1.
static inline int aptp_png_encode(const unsigned char *pixels, uint32_t width, uint32_t height, int channels,
                                  int bit_depth, int compression_level, aptp_png_buffer *out, char *error,
                                  size_t error_capacity) {
  static const int color_types[4] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                     PNG_COLOR_TYPE_RGB_ALPHA};
  aptp_png_error_sink sink = {error, error_capacity};
  png_structp png = NULL;
  png_infop info = NULL;
  out->data = NULL;
  out->size = 0;
  out->capacity = 0;
  if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) || width == 0 || height == 0) {
    aptp_png_copy_message(error, error_capacity, "PNG writer needs 1-4 channels, 8 or 16 bits, non-empty size");
    return -1;
  }
  png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, aptp_png_on_error, aptp_png_on_warning);
  if (png == NULL) {
    aptp_png_copy_message(error, error_capacity, "libpng could not allocate its writer");
    return -1;
  }
  info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_write_struct(&png, NULL);
    aptp_png_copy_message(error, error_capacity, "libpng could not allocate its info struct");
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    free(out->data);
    out->data = NULL;
    out->size = 0;
    out->capacity = 0;
    return -1;
  }
  png_set_write_fn(png, out, aptp_png_write_bytes, aptp_png_flush);
  png_set_compression_level(png, compression_level);
  png_set_IHDR(png, info, width, height, bit_depth, color_types[channels - 1], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (bit_depth == 16) png_set_swap(png);
  size_t row_bytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
  for (uint32_t y = 0; y < height; y++) {
    png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return 0;
}

#endif
