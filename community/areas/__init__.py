"""The area tree: city → district/town → street → community, and scope queries over it."""
