#include "cmk.h"
