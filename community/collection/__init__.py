"""Collection at pickup (收运, 桶车一致): collectors, station collection QR codes, pickup
windows and the collections they record (bins, kg, contamination per category)."""
