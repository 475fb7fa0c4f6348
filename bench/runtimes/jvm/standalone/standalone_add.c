/* standalone_add.c — StandaloneAdd.add: kv_add through JNI, nothing else. */
#include <jni.h>
#include "kv.h"
JNIEXPORT jint JNICALL Java_StandaloneAdd_add(JNIEnv *e, jclass c, jint a, jint b) {
  (void)e, (void)c;
  return kv_add(a, b);
}
