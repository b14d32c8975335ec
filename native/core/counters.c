/* core/counters.c — name and description tables generated from core/counters.h. */
#include <stddef.h>

#include "counters.h"

#define FP_X_NAME(name, desc) #name,
#define FP_X_DESC(name, desc) desc,
const char *const fp_lcore_counter_names[] = { FP_LCORE_COUNTERS(FP_X_NAME) NULL };
const char *const fp_drop_reason_names[] = { FP_DROP_REASONS(FP_X_NAME) NULL };
const char *const fp_port_counter_names[] = { FP_PORT_COUNTERS(FP_X_NAME) NULL };
const char *const fp_ctl_counter_names[] = { FP_CTL_COUNTERS(FP_X_NAME) NULL };
const char *const fp_lcore_counter_descs[] = { FP_LCORE_COUNTERS(FP_X_DESC) NULL };
const char *const fp_drop_reason_descs[] = { FP_DROP_REASONS(FP_X_DESC) NULL };
const char *const fp_port_counter_descs[] = { FP_PORT_COUNTERS(FP_X_DESC) NULL };
const char *const fp_ctl_counter_descs[] = { FP_CTL_COUNTERS(FP_X_DESC) NULL };
