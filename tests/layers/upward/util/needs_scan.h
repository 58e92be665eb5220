// Fixture for the layer check: the bottom layer including a public header of the scan layer.
#pragma once

#include "mscan/scan.h"
