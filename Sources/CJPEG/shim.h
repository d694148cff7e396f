// CJPEG: libjpeg(-turbo) behind one C decode function; its error manager longjmps only inside that function.
#ifndef APTP_CJPEG_SHIM_H
#define APTP_CJPEG_SHIM_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

/// A decoded JPEG: interleaved 8-bit gray (1 channel) or RGB (3 channels). Free `pixels` with `aptp_jpeg_free`.
typedef struct {
  unsigned char *pixels;
  size_t byte_count;
  uint32_t width;
  uint32_t height;
  int channels;
  int warnings;
} aptp_jpeg_image;

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} aptp_jpeg_error_manager;

static inline void aptp_jpeg_free(void *pointer) { free(pointer); }

static void aptp_jpeg_error_exit(j_common_ptr cinfo) {
  aptp_jpeg_error_manager *manager = (aptp_jpeg_error_manager *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, manager->message);
  longjmp(manager->jump, 1);
}

static void aptp_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static inline void aptp_jpeg_copy_message(char *dst, size_t capacity, const char *src) {
  if (dst == NULL || capacity == 0) return;
  strncpy(dst, src, capacity - 1);
  dst[capacity - 1] = 0;
}

/// Decodes a baseline or progressive JPEG held in memory to 8-bit gray or RGB. CMYK/YCCK files are rejected.
/// Corrupt-data warnings (which libjpeg recovers from) are counted in `warnings`.
/// Returns 0 on success; otherwise writes a message to `error` and returns -1.
static inline int aptp_jpeg_decode(const unsigned char *data, size_t size, size_t max_bytes, aptp_jpeg_image *out,
                                   char *error, size_t error_capacity) {
  struct jpeg_decompress_struct cinfo;
  aptp_jpeg_error_manager manager;
  unsigned char *volatile pixels = NULL;
  memset(out, 0, sizeof(*out));
  memset(&cinfo, 0, sizeof(cinfo));
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) {
    aptp_jpeg_copy_message(error, error_capacity, "not a JPEG file (missing SOI marker)");
    return -1;
  }
  if (size > (size_t)(unsigned long)-1) {
    aptp_jpeg_copy_message(error, error_capacity, "JPEG data too large");
    return -1;
  }
  cinfo.err = jpeg_std_error(&manager.pub);
  manager.pub.error_exit = aptp_jpeg_error_exit;
  manager.pub.output_message = aptp_jpeg_output_message;
  manager.message[0] = 0;
  if (setjmp(manager.jump)) {
    aptp_jpeg_copy_message(error, error_capacity, manager.message[0] ? manager.message : "libjpeg error");
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    return -1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, (unsigned char *)data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    aptp_jpeg_copy_message(error, error_capacity,
                           "CMYK/YCCK JPEG is not supported (convert it to RGB first)");
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  int channels = cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3;
  if (cinfo.image_width == 0 || cinfo.image_height == 0 ||
      (size_t)cinfo.image_height > max_bytes / ((size_t)cinfo.image_width * (size_t)channels)) {
    aptp_jpeg_copy_message(error, error_capacity, "JPEG image is empty or larger than the decoder's limit");
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != channels) {
    aptp_jpeg_copy_message(error, error_capacity, "unexpected JPEG component count after decoding");
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  size_t row_bytes = (size_t)cinfo.output_width * (size_t)channels;
  size_t total = row_bytes * (size_t)cinfo.output_height;
  pixels = (unsigned char *)calloc(total, 1);
  if (pixels == NULL) {
    aptp_jpeg_copy_message(error, error_capacity, "out of memory for JPEG pixels");
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels + (size_t)cinfo.output_scanline * row_bytes;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
  }
  out->width = cinfo.output_width;
  out->height = cinfo.output_height;
  jpeg_finish_decompress(&cinfo);
  out->warnings = (int)manager.pub.num_warnings;
  jpeg_destroy_decompress(&cinfo);
  out->pixels = pixels;
  out->byte_count = total;
  out->channels = channels;
  return 0;
}

#endif
