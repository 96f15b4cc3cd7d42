/*
 * snapshot.h - named snapshots of greenroom's whole state.
 *
 * A snapshot is <state>/snapshots/<name>/: state.db (an SQLite backup of the
 * store, taken with the store locked so it is consistent while requests run),
 * objects/ (hard links to the immutable object files) and meta.json. The
 * control endpoints are /_greenroom/snapshots (see snapshot_http).
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stddef.h>

#include "emu.h"

/* Saves the whole state under name (replacing a snapshot of that name).
 * Returns 0, or -1 with a message in err (invalid name, I/O). */
int snapshot_save(const char *name, char *err, size_t errlen);

/* Replaces the whole state with the snapshot's, then calls every service's
 * reload hook. Returns 0, -1 with err, or -2 when there is no such
 * snapshot. */
int snapshot_restore(const char *name, char *err, size_t errlen);

/* Deletes a snapshot. Returns 0, -1 with err, or -2 when absent. */
int snapshot_delete(const char *name, char *err, size_t errlen);

/* The control endpoints under /_greenroom/snapshots:
 *   GET    /_greenroom/snapshots                -> {"snapshots":[{name,time,size,objects}]}
 *   POST   /_greenroom/snapshots {"name":"x"}   -> {name,time,size,objects,ms}
 *   GET    /_greenroom/snapshots/x              -> {name,time,size,objects}
 *   POST   /_greenroom/snapshots/x/restore      -> {name,ms}
 *   DELETE /_greenroom/snapshots/x              -> {name}
 * Errors are {"error": code, "message": text} with 400/404/405/500. */
void snapshot_http(struct emu_request *req, struct emu_response *resp);

#endif
