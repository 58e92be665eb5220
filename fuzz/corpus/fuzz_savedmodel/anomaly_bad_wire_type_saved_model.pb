b
$"serve*1.15.52v1.15.4-39-g3db52be:

xPlaceholder*
dtype0

ReadFileReadFilex