# The layers of src/ (docs/architecture.md), lowest first. Each folder is a library that links
# only the layers it may use; cmake/check_layers.cmake fails the build on an #include that
# reaches any other layer, so a dependency cannot point up by accident.
set(MSCAN_LAYERS util io net rules formats targets scan report cli)

# What each layer may include besides itself.
set(MSCAN_USES_util "")
set(MSCAN_USES_io "util")
set(MSCAN_USES_net "util;io")
set(MSCAN_USES_rules "util")
set(MSCAN_USES_formats "util;io")
set(MSCAN_USES_targets "util;io;net")
set(MSCAN_USES_scan "util;io;net;rules;formats;targets")
set(MSCAN_USES_report "util;io;rules;scan")
set(MSCAN_USES_cli "util;io;net;rules;formats;targets;scan;report")

# The public headers (include/mscan/), each with the layers that may include it: the layer that
# implements what it declares and those above. Types every layer shares come first.
set(MSCAN_PUBLIC_operation "util;io;net;rules;formats;targets;scan;report;cli")
set(MSCAN_PUBLIC_finding "util;io;net;rules;formats;targets;scan;report;cli")
set(MSCAN_PUBLIC_limits "util;io;net;rules;formats;targets;scan;report;cli")
set(MSCAN_PUBLIC_version "util;io;net;rules;formats;targets;scan;report;cli")
set(MSCAN_PUBLIC_source "io;net;formats;targets;scan;report;cli")
set(MSCAN_PUBLIC_reader "io;net;formats;targets;scan;report;cli")
set(MSCAN_PUBLIC_neighbours "io;net;formats;targets;scan;report;cli")
set(MSCAN_PUBLIC_rules "rules;scan;report;cli")
# targets reads ScanOptions and fills ScanResult's repo summaries: it uses scan.h's types, not
# its entry points (scan() is implemented in scan/, above it).
set(MSCAN_PUBLIC_scan "targets;scan;report;cli")
set(MSCAN_PUBLIC_policy "targets;scan;report;cli")
set(MSCAN_PUBLIC_report "report;cli")
